"""Simulated Stockport town-centre sensors publishing over MQTT."""
