"""Ticket printing: layout (ticket), ESC/POS bytes (encoding), connections, status,
output, and the commit-then-print rule (issuing). The only package that imports python-escpos.
"""
