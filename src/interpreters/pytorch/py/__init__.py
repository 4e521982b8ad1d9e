"""The Python runtime of typed-flows' PyTorch export, as real modules.

typed-flows assembles a generated module from the top-level definitions of these files that its code
uses (each file's imports stay here): see src/interpreters/pytorch/runtime.ts. The files import each
other so that each one compiles and lints on its own.
"""
