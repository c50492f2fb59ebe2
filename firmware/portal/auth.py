"""HTTP Basic authentication (RFC 7617) for /config on the LAN, with a failure limit.

    Authorization: Basic base64("<any user>:<admin.password>")

Only the password counts (the user name is free: phones remember it anyway). After
``MAX_FAILURES`` wrong passwords in a row every attempt, right or wrong, is refused with 429
for ``LOCKOUT_S`` seconds; each further lockout doubles, up to ``MAX_LOCKOUT_S``. The lock
is global, not per address: addresses are cheap to change on a LAN, and the owner can always
reconfigure with the button after a restart (board/esp32.py). Passwords are compared in constant time.
"""

import binascii

from portal import const

MAX_FAILURES = 5  # a person mistyping gets five tries; a guesser gets five per lockout
LOCKOUT_S = 30  # first lockout; doubled per lockout so guessing 8 characters takes years
MAX_LOCKOUT_S = 3600  # never lock the owner out for more than an hour
# Characters of base64 we decode: config.py caps passwords at 128 characters, which UTF-8
# may spell in up to 512 bytes ("admin:" and base64's 4/3 on top).
_MAX_CREDENTIALS = const(700)

OK = 0
DENIED = 1
LOCKED = 2


def refusal(guard, status):
    """(HTTP status, message, header fields) refusing with ``status``, the ``check`` result
    DENIED or LOCKED, or None when no admin password is set."""
    if status is None:
        # (One text for every board: no new name for the name pool's sake.)
        return 403, ("no admin password is set: hold the button while the light blinks after a restart to open "
                     "the setup portal (the unix port has no button: set admin.password in its configuration "
                     "file)"), None
    if status == LOCKED:
        wait = guard.retry_after()
        return (429, "too many wrong passwords: wait %d s, then reload this page" % wait,
                {"Retry-After": str(wait)})
    return (401, "admin password required: reload this page and give it when asked (any user "
                 "name), or hold the button while the light blinks after a restart to open the setup portal",
            {"WWW-Authenticate": 'Basic realm="meterlink", charset="UTF-8"'})


def same(a, b):
    """Constant-time comparison of two str (time depends only on their lengths)."""
    a = a.encode()
    b = b.encode()
    diff = len(a) ^ len(b)
    for i in range(min(len(a), len(b))):
        diff |= a[i] ^ b[i]
    return diff == 0


def basic_password(header):
    """The password from an ``Authorization: Basic …`` value, or None."""
    if not header or len(header) > _MAX_CREDENTIALS:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = binascii.a2b_base64(token.strip()).decode()
    except (ValueError, UnicodeError):
        return None
    user, sep, password = text.partition(":")
    return password if sep else None


class Guard:
    """Counts failures and locks; ``clock()`` returns seconds (time.time on the device)."""

    def __init__(self, clock):
        self.clock = clock
        self.failures = 0
        self.lockouts = 0
        self.locked_until = 0

    def retry_after(self):
        """Seconds until attempts are accepted again (0 when not locked)."""
        left = self.locked_until - self.clock()
        return int(left) + 1 if left > 0 else 0

    def check(self, header, password):
        """OK, DENIED or LOCKED for the Authorization header against the stored password."""
        return self.verify(basic_password(header), password)

    def verify(self, given, password):
        """OK, DENIED or LOCKED for a typed password (None: nothing typed, not a guess)."""
        if self.retry_after():
            return LOCKED
        if password and given is not None and same(given, password):
            self.failures = 0
            self.lockouts = 0
            return OK
        if given is not None:  # a missing header is a first visit, not a guess
            self.failures += 1
            if self.failures >= MAX_FAILURES:
                self._lock()
        return DENIED

    def _lock(self):
        seconds = min(LOCKOUT_S << min(self.lockouts, 7), MAX_LOCKOUT_S)
        self.locked_until = self.clock() + seconds
        self.lockouts += 1
        self.failures = 0
