// placeholder: filled in by this package's first module
