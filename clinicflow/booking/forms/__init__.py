"""The booking pages' forms, one module per part. They parse and check the shape of the input; the
services apply the business rules."""
