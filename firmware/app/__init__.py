"""The gateway application: meter reader, latest-readings store, MQTT and HTTP publishers."""

VERSION = "0.1.0"
