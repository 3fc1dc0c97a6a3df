"""spark-submit entry points: thin scripts that parse arguments, build settings and the session,
and call one function. Run them with ``lake submit NAME`` (or ``spark-submit`` directly)."""
