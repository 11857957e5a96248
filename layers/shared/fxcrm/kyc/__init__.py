"""Know-your-customer: the broker's form (data, editable by staff), the
client's answers and documents, e-verification and the staff review."""
