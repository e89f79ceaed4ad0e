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


def _obj(conn):
    """The _ssl object under an ssl.SSLSocket / ssl.SSLObject."""
    inner = getattr(conn, "_sslobj", conn)
    if inner is None or not hasattr(inner, "_moat_info"):
        raise TypeError("not a TLS connection made by moat's _ssl "
                        "(call moat.use() or put moat first on PYTHONPATH)")
    return inner


def export_keying_material(conn, label, length, context=None):
    """RFC 8446 7.5 / RFC 5705 exporter: `length` bytes for `label`."""
    return _obj(conn)._moat_export_keying_material(label, length, context)


def channel_binding(conn, cb_type="tls-exporter"):
    """RFC 9266 tls-exporter (32 bytes), or the stdlib's tls-unique."""
    if cb_type == "tls-exporter":
        return export_keying_material(conn, "EXPORTER-Channel-Binding", 32)
    return conn.get_channel_binding(cb_type)


def key_update(conn, request_peer=True):
    """Send a TLS 1.3 KeyUpdate (RFC 8446 4.6.3); it leaves with the next
    write.  request_peer asks the peer to update its keys too."""
    _obj(conn)._moat_key_update(request_peer)


def set_record_size_limit(context, limit):
    """RFC 8449 record_size_limit for an ssl.SSLContext: the largest
    protected record (64 to 16385 bytes of plaintext) its connections
    take, sent by clients and answered by servers; 0 sends none.  The
    peer's limit then bounds what they send; moat.info reports both."""
    context._moat_set_record_size_limit(limit)


def info(conn):
    """The negotiated group and signature schemes, verification detail and
    the rest of what the stdlib does not report."""
    return _obj(conn)._moat_info()
