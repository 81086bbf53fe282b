"""One writer at a time: the Service's Lease (take, renew, release), the guard before writes."""
