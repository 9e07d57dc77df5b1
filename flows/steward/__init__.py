"""Data stewards' decisions on customer record pairs, which the customer-master models read."""
