"""Backend adapters. Only modules in this package import frameworks."""
