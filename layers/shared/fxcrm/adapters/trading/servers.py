"""Which server an account lives on, and the platform adapter that serves it."""

import threading

from fxcrm.adapters.secrets import get_secret_json
from fxcrm.adapters.trading.port import TradingPlatform
from fxcrm.adapters.trading.simulated import SimulatedPlatform
from fxcrm.core.settings import Settings

SERVERS = {("MT4", True): "MT4-Demo", ("MT4", False): "MT4-Live", ("MT5", True): "MT5-Demo", ("MT5", False): "MT5-Live"}

_lock = threading.Lock()
_mt5_clients: dict[str, TradingPlatform] = {}


def server_for(platform: str, is_demo: bool) -> str:
    return SERVERS[(platform, is_demo)]


def server_name(server: str) -> str:
    return f"fxcrm-{server}"


def platform_for(settings: Settings, server: str) -> TradingPlatform:
    if settings.trading_platform != "mt5webapi" or not server.startswith("MT5"):
        return SimulatedPlatform(server)
    with _lock:  # one client per server and process: the MT5 session is reused
        if server not in _mt5_clients:
            from fxcrm.adapters.trading.mt5_webapi import Mt5WebApi

            config = get_secret_json(settings.mt5_secret_name, settings.secret_cache_seconds)[server]
            _mt5_clients[server] = Mt5WebApi(config["url"], int(config["manager_login"]), config["manager_password"])
        return _mt5_clients[server]
