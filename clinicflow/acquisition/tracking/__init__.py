"""Numbers and website tracking: tracking numbers and their pools, the website script with its
settings, web sessions holding dynamic numbers (leases), and web-form leads."""
