"""The A09 cloud-usage framework: the rules as data (`model`, read and validated from
policy/cloud.yaml by `policy`) and the admissible hosting per table with its page (`framework`)."""
