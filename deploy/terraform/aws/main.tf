data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # Built from the name rather than read with a data source: data "aws_ssm_parameter" would
  # store the decrypted PAT in the state.
  pat_parameter_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.pat_parameter_name}"

  cluster_arn        = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${var.name}"
  agent_family       = "${var.name}-agent"
  agent_family_arn   = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.agent_family}:*"
  agent_tasks_arn    = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.name}/*"
  agent_container    = "agent"
  controller_id      = var.name
  controller_log     = "/adofleet/${var.name}/controller"
  agent_log          = "/adofleet/${var.name}/agents"
  tags               = merge({ "adofleet:deployment" = var.name }, var.tags)
  capacity_providers = var.use_fargate_spot ? ["FARGATE_SPOT", "FARGATE"] : ["FARGATE"]

  # The adofleet config, rendered from the variables. Secrets are references resolved by adofleet
  # at start-up (ssm:...), never values.
  # The keys are internal/config's (docs/config.md); `adofleet validate` checks the result.
  rendered_config = yamlencode(merge({
    organization = { url = var.ado_org_url, pat = "ssm:${var.pat_parameter_name}" }
    controller   = { id = local.controller_id, resync = "30s" }
    store        = local.store_config # dynamodb.tf
    web          = { listen = var.mode == "ecs" ? "0.0.0.0:8080" : "off" }
    aws          = { region = local.region }
    providers = {
      ecs = {
        cluster        = var.name
        taskDefinition = local.agent_family
        containerName  = local.agent_container
        subnets        = var.subnet_ids
        securityGroups = var.security_group_ids
        assignPublicIp = var.assign_public_ip
        capacityProviderStrategy = [
          for i, p in local.capacity_providers : { provider = p, weight = i == 0 ? 1 : 0, base = 0 }
        ]
        secrets = [{ name = "AZP_TOKEN", valueFrom = local.pat_parameter_arn }]
      }
    }
  }, length(var.pool_names) == 0 ? {} : {
    pools = [for p in var.pool_names : { name = p, provider = "ecs", min = 0, max = var.pool_max_agents }]
  }, local.vm_config))
  config_yaml = var.extra_config_yaml != "" ? var.extra_config_yaml : local.rendered_config
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  lifecycle {
    precondition {
      condition     = length(var.pool_names) > 0 || length(var.vm_resource_environments) > 0
      error_message = "Set pool_names (pools to scale), vm_resource_environments (Environments to keep in step with Auto Scaling groups), or both."
    }
  }

  setting {
    name  = "containerInsights"
    value = "disabled"
  }

  tags = local.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = local.capacity_providers[0]
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "controller" {
  name              = local.controller_log
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "agents" {
  name              = local.agent_log
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# One agent per task; adofleet sets AZP_URL, AZP_POOL, AZP_AGENT_NAME and the rest per task.
resource "aws_ecs_task_definition" "agent" {
  family                   = local.agent_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.agent_cpu
  memory                   = var.agent_memory
  execution_role_arn       = aws_iam_role.agent_execution.arn
  task_role_arn            = aws_iam_role.agent_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = local.agent_container
    image     = var.agent_image
    essential = true
    # The registration token reaches the task only as a secret, filled by ECS from SSM.
    secrets     = [{ name = "AZP_TOKEN", valueFrom = local.pat_parameter_arn }]
    environment = [{ name = "AZP_URL", value = var.ado_org_url }]
    # Time for the entrypoint to remove the agent after SIGTERM.
    stopTimeout = 60
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.agents.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "agent"
      }
    }
  }])

  tags = local.tags
}
