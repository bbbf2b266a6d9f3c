#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""h2peer.py - a scripted HTTP/2 server for the tests, on Debian's python3-h2:
what real servers rarely do on demand.

    h2peer.py PORT CERT KEY MODE [--plain] [--arg N]

Each request is answered 200 with the body "req N path" (N counts the
requests of the whole run from 1), and X-Req: N, unless MODE says otherwise:
  ok          every request answered
  refuse      odd-numbered requests are reset with REFUSED_STREAM
  reset       requests to /reset are reset with RST_STREAM code --arg (default 2)
  goaway      after --arg requests (default 3) have arrived, those are answered,
              then GOAWAY (NO_ERROR) names the last of them; later streams are
              never processed; the connection closes once the answers are out
  goaway-error  GOAWAY with PROTOCOL_ERROR at the first request, naming the
              last stream read so far, then the close
  lower       SETTINGS_MAX_CONCURRENT_STREAMS 100, lowered to 2 after the first
              request; a third open stream is reset with PROTOCOL_ERROR
  slow        answers after --arg ms (default 200)
  big-headers the response carries 80 KB of header fields
  echo        the body is the request's body; X-Got-Body its length; X-Got-Headers
              the request's field names in order, X-Got-Authority its :authority
  early       answers 413 at the request's HEADERS, before its body, and never
              reads the body (no WINDOW_UPDATE)
  silent      reads and never answers, nor acks PINGs
  zero-window SETTINGS_INITIAL_WINDOW_SIZE 0, never opened: a request body never
              goes; bodiless requests are answered
  continuation-flood  answers with HEADERS and then CONTINUATION frames without
              end (CVE-2024-27316 / nghttp2's CVE-2024-28182)
  slow1       SETTINGS_MAX_CONCURRENT_STREAMS 1, each answer after --arg ms
              (default 100)
Prints "ready" when listening.
"""
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

port, cert, key, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
plain = "--plain" in sys.argv
arg = None
if "--arg" in sys.argv:
    arg = int(sys.argv[sys.argv.index("--arg") + 1])

lock = threading.Lock()
count = [0]


def next_no():
    with lock:
        count[0] += 1
        return count[0]


def serve(sock):
    cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=cfg)
    conn.initiate_connection()
    if mode == "lower":
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
    if mode == "zero-window":
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    if mode == "slow1":
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
    sock.sendall(conn.data_to_send())
    bodies = {}
    heads = {}
    heads_list = {}
    pending = []  # (stream, number, path) waiting for goaway's moment
    limit = [None]
    closing = False
    lowered = False

    def answer(sid, no, path, extra=()):
        body = ("req %d %s" % (no, path)).encode()
        if mode == "echo":
            body = bytes(bodies.get(sid, b""))
            extra = (("x-got-body", str(len(body))),
                     ("x-got-headers", ",".join(n for n, _ in heads_list[sid])),
                     ("x-got-authority", heads[sid].get(":authority", "")))
        hdrs = [(":status", "200"), ("content-length", str(len(body))), ("x-req", str(no))]
        hdrs += list(extra)
        if mode == "big-headers":  # 80 KB in all, each field under HPACK's own limit
            hdrs += [("x-big1", "b" * 40000), ("x-big2", "c" * 40000)]
        conn.send_headers(sid, hdrs)
        # the body within the flow-control window, as it opens
        sent = 0
        while sent < len(body):
            win = conn.local_flow_control_window(sid)
            n = min(win, len(body) - sent, conn.max_outbound_frame_size)
            if n <= 0:
                sock.sendall(conn.data_to_send())
                data = sock.recv(65536)
                if not data:
                    return
                conn.receive_data(data)
                continue
            conn.send_data(sid, body[sent:sent + n])
            sent += n
        conn.end_stream(sid)

    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        try:
            events = conn.receive_data(data)
        except Exception:
            break
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived) and mode == "early":
                conn.send_headers(ev.stream_id, [(":status", "413"), ("content-length", "0")],
                                  end_stream=True)
                continue
            if mode == "early":
                continue  # the body is read and dropped, its window never reopened
            if isinstance(ev, h2.events.RequestReceived):
                heads[ev.stream_id] = dict(ev.headers)
                heads_list[ev.stream_id] = list(ev.headers)
                if ev.stream_ended:
                    pending.append(ev.stream_id)
            elif isinstance(ev, h2.events.DataReceived):
                bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if ev.stream_ended:
                    pending.append(ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                if ev.stream_id not in pending and ev.stream_id in heads:
                    pending.append(ev.stream_id)
            elif isinstance(ev, h2.events.PingReceived) and mode == "silent":
                pass
        if mode == "silent":
            pending.clear()
            continue
        open_now = len(pending)
        while pending:
            sid = pending.pop(0)
            if sid not in heads:
                continue
            path = heads[sid].get(":path", "")
            if mode == "lower" and limit[0] is not None and open_now > limit[0]:
                conn.close_connection(error_code=h2.errors.ErrorCodes.PROTOCOL_ERROR)
                closing = True
                break
            no = next_no()
            if mode == "refuse" and no % 2 == 1:
                conn.reset_stream(sid, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
            elif mode == "reset" and path == "/reset":
                conn.reset_stream(sid, error_code=arg if arg is not None else 2)
            elif mode == "goaway-error":
                conn.close_connection(error_code=h2.errors.ErrorCodes.PROTOCOL_ERROR,
                                      last_stream_id=max(heads))
                closing = True
                break
            elif mode == "goaway":
                after = arg if arg is not None else 3
                answer(sid, no, path)
                if no >= after:
                    conn.close_connection(last_stream_id=sid)
                    closing = True
                    break
            elif mode in ("slow", "slow1"):
                sock.sendall(conn.data_to_send())
                time.sleep((arg if arg is not None else (200 if mode == "slow" else 100)) / 1000.0)
                answer(sid, no, path)
            elif mode == "continuation-flood":
                sock.sendall(conn.data_to_send())
                # HEADERS (:status 200, no END_HEADERS), then CONTINUATION
                # frames of 100-byte fields that never end the block
                def frame(ftype, flags, payload):
                    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
                            sid.to_bytes(4, "big") + payload)
                field = b"\x00\x03x-a\x60" + b"a" * 96  # literal, never indexed
                try:
                    sock.sendall(frame(1, 0, b"\x88"))
                    for _ in range(20000):
                        sock.sendall(frame(9, 0, field))
                except OSError:
                    pass
                closing = True
                break
            else:
                answer(sid, no, path)
            if mode == "lower" and not lowered:
                lowered = True
                conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2})
                limit[0] = 2
        out = conn.data_to_send()
        if out:
            try:
                sock.sendall(out)
            except OSError:
                break
        if closing:
            time.sleep(0.05)
            break
    try:
        sock.close()
    except OSError:
        pass


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    ctx = None
    if not plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["h2"])
    print("ready", flush=True)
    while True:
        s, _ = ls.accept()
        if ctx is not None:
            try:
                s = ctx.wrap_socket(s, server_side=True)
            except (ssl.SSLError, OSError):
                s.close()
                continue
        threading.Thread(target=serve, args=(s,), daemon=True).start()


main()
