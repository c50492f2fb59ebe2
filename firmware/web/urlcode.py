"""application/x-www-form-urlencoded decoding (WHATWG URL standard, section 5.1) for query
strings and form bodies: ``a=1&b=x+y%21`` -> {"a": "1", "b": "x y!"}.

Percent escapes are decoded to bytes first and the result read as UTF-8, so multi-byte
characters typed into a form (an SSID with an umlaut) survive. A stray ``%`` that is not
followed by two hex digits is kept as it is, as browsers do.
"""

_HEX = b"0123456789abcdefABCDEF"


def unquote(text, plus=True):
    """Decode %XX escapes (and '+' as space when ``plus``) in a str; returns a str."""
    raw = text.encode()
    if b"%" not in raw and not (plus and b"+" in raw):
        return text
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(int(raw[i + 1 : i + 3].decode(), 16))
            i += 3
            continue
        out.append(0x20 if (plus and c == 0x2B) else c)
        i += 1
    return bytes(out).decode()


def parse_query(text):
    """Split ``a=1&b=2`` into a dict of str; the last value of a repeated name wins."""
    result = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        result[unquote(name)] = unquote(value)
    return result
