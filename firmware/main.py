"""meterlink entry point.

On the ESP32 the boot goes through the captive portal's decision
(portal/boot.py: portal when unconfigured or the button is held, else the
gateway). On unix ``micropython firmware/main.py --config FILE`` runs the
gateway directly (``micropython -m portal.boot`` for the portal flow).
"""

import sys

if sys.platform == "esp32":
    try:
        from portal.boot import main
    except Exception as e:  # a file a cut-short deploy damaged: restart as boot.main does
        sys.print_exception(e)
        import time

        from board.esp32 import reset

        print("meterlink: restarting in 10 s (Ctrl-C for the REPL)")
        time.sleep(10)
        reset()
else:
    from app.app import main

try:
    status = main()
except KeyboardInterrupt:  # Ctrl-C on the unix port: a stop, said without a traceback
    print("meterlink: stopped")
    status = 130
if status:
    sys.exit(status)
