"""The service's connections send at once (TCP_NODELAY), with one worker or many."""

from __future__ import annotations

import socket
from unittest.mock import Mock

import uvicorn
from uvicorn.server import ServerState

from kenri.service.transport import PROTOCOL


def test_accepted_connections_get_no_delay_even_from_a_protocol_0_listener():
    config = uvicorn.Config(app=Mock(), http=PROTOCOL)
    config.load()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # protocol 0, as uvicorn binds
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        connection, _ = listener.accept()
        with client, connection:
            assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            transport = Mock()
            transport.get_extra_info = lambda name, default=None: (
                connection if name == "socket" else default
            )
            protocol = config.http_protocol_class(
                config=config, server_state=ServerState(), app_state={}
            )
            protocol.connection_made(transport)
            assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
