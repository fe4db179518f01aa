# Roles of the agent tasks. The execution role is what ECS itself uses to start a task; the task
# role is what the pipeline job runs with.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    # Only ECS tasks of this account may assume the roles.
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "agent_execution" {
  name               = "${var.name}-agent-execution"
  description        = "ECS pulls the adofleet agent image, writes its logs and fills AZP_TOKEN from SSM."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "agent_execution" {
  statement {
    sid = "AgentLogs"
    # The awslogs driver creates one stream per task and writes the agent's output to it.
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.agents.arn}:log-stream:*"]
  }

  statement {
    sid = "AgentTokenSecret"
    # ECS reads the PAT parameter (GetParameters, plural) to fill the AZP_TOKEN secret.
    actions   = ["ssm:GetParameters"]
    resources = [local.pat_parameter_arn]
  }

  dynamic "statement" {
    for_each = var.pat_kms_key_arn == null ? [] : [var.pat_kms_key_arn]
    content {
      sid = "AgentTokenDecrypt"
      # Decrypts the SecureString with the customer key, only when SSM asks on the role's behalf.
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) == 0 ? [] : [1]
    content {
      sid = "PullAgentImage"
      # Pulls image layers from the named repositories only.
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = var.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) == 0 ? [] : [1]
    content {
      sid = "ECRLogin"
      # ecr:GetAuthorizationToken: AWS does not support resource-level permissions for this action
      # (the token is registry-wide), so its resource is "*".
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "agent_execution" {
  name   = "agent-execution"
  role   = aws_iam_role.agent_execution.id
  policy = data.aws_iam_policy_document.agent_execution.json
}

resource "aws_iam_role" "agent_task" {
  name               = "${var.name}-agent-task"
  description        = "What adofleet's pipeline jobs may do in AWS: only the policies in agent_task_policy_arns."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "agent_task" {
  for_each   = toset(var.agent_task_policy_arns)
  role       = aws_iam_role.agent_task.name
  policy_arn = each.value
}
