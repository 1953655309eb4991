"""ISO 15118-2 for the central system: an EXI codec of the certificate messages, a home mobility operator."""
