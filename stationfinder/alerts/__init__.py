"""Weather alerts for couriers: what the union announces, and what it means for work. No Flask."""
