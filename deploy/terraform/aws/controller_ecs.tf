# Mode ecs: the controller runs `adofleet serve` as one Fargate task (one controller per
# deployment: the pools' state is in its SQLite file and every restart re-observes by tag).

resource "aws_ecs_task_definition" "controller" {
  count                    = var.mode == "ecs" ? 1 : 0
  family                   = "${var.name}-controller"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.controller_execution[0].arn
  task_role_arn            = aws_iam_role.controller.arn

  container_definitions = jsonencode([{
    name      = "controller"
    image     = var.controller_image
    essential = true
    # serve reads a file: the config (references only, no secret values) is written from the
    # environment at start. The controller image must have /bin/sh.
    entryPoint = ["/bin/sh", "-c"]
    command    = ["printf '%s' \"$ADOFLEET_CONFIG_YAML\" > /tmp/adofleet.yaml && exec adofleet serve -c /tmp/adofleet.yaml --log-json"]
    environment = [
      { name = "ADOFLEET_CONFIG_YAML", value = local.config_yaml },
      { name = "AWS_REGION", value = local.region },
    ]
    portMappings = [{ containerPort = 8080, protocol = "tcp" }]
    stopTimeout  = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.controller.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "controller"
      }
    }
  }])

  tags = local.tags
}

resource "aws_ecs_service" "controller" {
  count           = var.mode == "ecs" ? 1 : 0
  name            = "${var.name}-controller"
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.controller[0].arn
  desired_count   = 1
  launch_type     = "FARGATE"
  # Never two controllers at once: stop the old task before starting the new one.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  tags = local.tags
}
