"""Helpers every test folder may use: the repository's paths and sample row, a loopback HTTP
server for fakes, and a fake clock. Real server processes come from ``loadtest.local_server``,
which ``make bench`` uses too."""
