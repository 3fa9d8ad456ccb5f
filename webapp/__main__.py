"""Start the web demo: ``.venv/bin/python -m webapp`` (then open http://127.0.0.1:5000/).

Options: ``--port 8000``, ``--model path/to/model.keras`` (default: ``$EMOTION_MODEL``, else
``models/emotion_cnn.keras``), ``--host`` (default 127.0.0.1: only this computer can connect).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _single_threaded_inference() -> None:
    """One TensorFlow thread per prediction: the server runs requests side by side instead.

    A prediction here is one or two 48x48 faces; TensorFlow's default thread pool costs about
    11-13 ms of CPU for it (its threads spin between calls), a single thread about 6 ms.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already ran in this process (main() called from Python): keep its threads
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="Facial emotions web demo (photo upload, webcam, JSON API).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000; 0 picks a free one)")
    parser.add_argument("--model", default=None, help="the .keras model (default: $EMOTION_MODEL, else models/emotion_cnn.keras)")
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    args = parser.parse_args(argv)

    from werkzeug.serving import WSGIRequestHandler, make_server

    from utils.errors import CourseError
    from webapp.app import create_app, resolve_model_path

    _single_threaded_inference()
    print(f"Loading the model {resolve_model_path(args.model)} ...", flush=True)
    try:
        app = create_app(args.model)
    except CourseError as error:  # ModelError: a missing or unusable model file
        print(f"error: the web demo cannot start without a model. {error}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(f"warning: listening on {args.host}: other computers on the network can use the demo. "
              "Browsers allow the webcam only on http://127.0.0.1 / localhost or over https.", file=sys.stderr)
    handler = WSGIRequestHandler
    if args.quiet:
        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs) -> None:
                pass
        handler = QuietHandler
    try:
        server = make_server(args.host, args.port, app, threaded=True, request_handler=handler)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port} ({error.strerror}). Choose another port with --port.", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Web demo running on http://{host}:{server.server_port}/  (press Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
