"""Runs kombu's own unacked-restore once, as any Python Celery process would after the visibility
timeout, with the timeout set to 0 so every message in `unacked` counts as stale.

Prints the number of messages restored. Broker from CELERY_BROKER_URL.
"""
from demoapp import app

app.conf.broker_transport_options = {"visibility_timeout": 0}
with app.connection() as conn:
    channel = conn.default_channel
    client = channel.client
    before = client.zcard(channel.unacked_index_key)
    channel.qos.restore_visible(num=1000)
    after = client.zcard(channel.unacked_index_key)
    print(before - after, flush=True)
