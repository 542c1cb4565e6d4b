# RabbitMQ on 127.0.0.1:5672, guest/guest.
command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
fi
timeout 120 rabbitmqctl -q await_startup || fatal "RabbitMQ did not start"
(exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null || fatal "RabbitMQ is not listening on 127.0.0.1:5672"
