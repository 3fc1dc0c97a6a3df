"""The A09 cloud-usage framework: the rules as data (`policy`, from policy/cloud.yaml) and the
admissible hosting per table with its page (`framework`)."""
