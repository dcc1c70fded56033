"""``jutaku serve`` (the web UI under gunicorn) and ``jutaku worker`` (tasks started from the browser).

Both are system services started from a registered console (:data:`Permission.SERVICE_RUN`, no
session: they outlive any; each browser request carries its user's own session).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, requires

#: Access log without query strings: a name searched for must not end up in a log file.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 2 × CPUs)")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM)")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM)")
@requires(Permission.SERVICE_RUN)
def serve(host: str, port: int, workers: int | None, certfile: str | None, keyfile: str | None) -> None:
    """Web UI (職員向け画面) for the home in JUTAKU_HOME, under gunicorn."""
    from gunicorn.app.base import BaseApplication

    from jutaku import config

    cfg = config.get()
    if cfg.is_production and not (certfile and keyfile) and not cfg.trusted_proxies:
        raise Refused("本番モードでは TLS が必要です: --certfile と --keyfile を指定するか、"
                      "JUTAKU_TRUSTED_PROXIES に TLS 終端プロキシを設定してください。")
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or max(2, multiprocessing.cpu_count() * 2),
        "threads": 4, "worker_class": "gthread", "timeout": 120, "graceful_timeout": 30,
        "accesslog": "-", "access_log_format": ACCESS_LOG_FORMAT, "errorlog": "-",
        "forwarded_allow_ips": ",".join(cfg.trusted_proxies) or "127.0.0.1",
        "limit_request_line": 4094, "proc_name": "jutaku-web",
    }
    if certfile and keyfile:
        import ssl

        options |= {"certfile": certfile, "keyfile": keyfile, "ssl_version": ssl.PROTOCOL_TLS_SERVER,
                    "ciphers": "ECDHE+AESGCM:ECDHE+CHACHA20"}

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from jutaku.web.wsgi import application

            return application

    scheme = "https" if certfile else "http"
    click.echo(f"職員向け画面: {scheme}://{host}:{port}/ （停止は Ctrl+C）", err=True)
    App().run()


@click.command("worker")
@click.option("--once", is_flag=True, help="run the queued tasks, then stop")
@click.option("--interval", default=1.0, show_default=True, help="seconds between looks at the queue")
@requires(Permission.SERVICE_RUN)
def worker(once: bool, interval: float) -> None:
    """Run the tasks started from the browser (one at a time), and delete expired download files."""
    from jutaku.jobs import queue
    from jutaku.jobs.worker import run_pending
    from jutaku.jobs.worker import serve as serve_tasks
    from jutaku.web.tasks import all_kinds

    kinds = all_kinds()
    if once:
        queue.requeue_interrupted()
        ran = run_pending(kinds)
        queue.expire()
        click.echo(f"{ran} 件の処理を実行しました。")
        return
    click.echo("処理ワーカーを開始しました（停止は Ctrl+C）。", err=True)
    serve_tasks(kinds, interval=interval)
