"""Many homes as one service: homes placed on processes by leases in PostgreSQL (lease.py,
placement.py) and served side by side, each its own hub, behind one router (host.py)."""
