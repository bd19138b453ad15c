"""The ingestor: MQTT in, validated line protocol out to InfluxDB, at least once."""
