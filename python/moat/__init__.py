"""moat for Python: the standard library's ssl on moat.

Put the directory holding this package first on PYTHONPATH (it also
holds moat's _ssl), or call moat.use() before anything imports ssl.
"""
import os
import sys

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use():
    """Make `import ssl` use moat's _ssl (call before ssl is imported)."""
    mod = sys.modules.get("_ssl")
    if mod is not None:
        if getattr(mod, "MOAT_VERSION", None):
            return mod
        raise RuntimeError("ssl was imported before moat.use(): the "
                           "standard _ssl is already loaded")
    import importlib.machinery
    import importlib.util
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(_HERE, "_ssl" + suffix)
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("_ssl", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            sys.modules["_ssl"] = mod
            return mod
    raise ImportError("moat's _ssl is not built for this interpreter")
