"""Running the service: startup checks, backups and health probes."""
