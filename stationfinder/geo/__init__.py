"""Geography without Flask: points and coordinate systems, areas, the nearest-station index."""
