# The controller's role: the ECS task role in mode ecs, the Lambda functions' role in mode lambda.
# Every action is listed with why the controller needs it.

data "aws_iam_policy_document" "controller_assume" {
  statement {
    # ECS tasks (mode ecs) or Lambda (mode lambda) of this account assume the controller role.
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [var.mode == "ecs" ? "ecs-tasks.amazonaws.com" : "lambda.amazonaws.com"]
    }
    # ECS tasks carry the account as aws:SourceAccount (confused-deputy guard); Lambda's
    # execution role trust does not need it.
    dynamic "condition" {
      for_each = var.mode == "ecs" ? [1] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_iam_role" "controller" {
  name               = "${var.name}-controller"
  description        = "adofleet controller: starts and stops agent tasks on the ${var.name} cluster."
  assume_role_policy = data.aws_iam_policy_document.controller_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "controller" {
  statement {
    sid = "RunAgentTasks"
    # Launch: RunTask of the agent task definition (any revision) on this cluster only.
    actions   = ["ecs:RunTask"]
    resources = [local.agent_family_arn]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid = "TagAgentTasksAtLaunch"
    # RunTask with tags (adofleet:pool, adofleet:controller, the agent name) needs TagResource,
    # allowed only as part of RunTask.
    actions   = ["ecs:TagResource"]
    resources = [local.agent_tasks_arn]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid = "ManageAgentTasks"
    # Terminate is StopTask; observe is DescribeTasks (status, stop reason, tags). Tasks of this
    # cluster only.
    actions   = ["ecs:StopTask", "ecs:DescribeTasks"]
    resources = [local.agent_tasks_arn]
  }

  statement {
    sid = "ListAgentTasks"
    # List finds the pool's tasks. ecs:ListTasks: AWS does not support resource-level permissions
    # for this action, so the resource is "*" and the ecs:cluster condition scopes it to the cluster.
    actions   = ["ecs:ListTasks"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid = "ReadAgentTaskDefinition"
    # The provider checks once that the task definition declares AZP_TOKEN as a secret.
    # ecs:DescribeTaskDefinition: AWS does not support resource-level permissions for this action.
    actions   = ["ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid = "PassAgentRoles"
    # RunTask hands the agent's execution and task roles to ECS; no other role can be passed.
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.agent_execution.arn, aws_iam_role.agent_task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid = "ReadPAT"
    # The controller resolves organization.pat (ssm:...) with GetParameter, decrypted.
    actions   = ["ssm:GetParameter"]
    resources = [local.pat_parameter_arn]
  }

  dynamic "statement" {
    for_each = var.pat_kms_key_arn == null ? [] : [var.pat_kms_key_arn]
    content {
      sid = "DecryptPAT"
      # Decrypts the PAT's customer key, only through SSM.
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  statement {
    sid = "PublishMetrics"
    # Optional CloudWatch metrics (queue depth, agents by state). cloudwatch:PutMetricData: AWS
    # does not support resource-level permissions for this action; the namespace condition limits it.
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }

  dynamic "statement" {
    for_each = var.mode == "lambda" ? [1] : []
    content {
      sid = "LambdaLogs"
      # The functions write their logs to the controller log group (created by this module, so
      # logs:CreateLogGroup is not granted).
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.controller.arn}:log-stream:*"]
    }
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "controller"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller.json
}

# Mode ecs: what ECS needs to start the controller task itself.
resource "aws_iam_role" "controller_execution" {
  count              = var.mode == "ecs" ? 1 : 0
  name               = "${var.name}-controller-execution"
  description        = "ECS pulls the adofleet controller image and writes its logs."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "controller_execution" {
  statement {
    sid = "ControllerLogs"
    # The awslogs driver writes the controller's output.
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.controller.arn}:log-stream:*"]
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) == 0 ? [] : [1]
    content {
      sid = "PullControllerImage"
      # Pulls image layers from the named repositories only.
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = var.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) == 0 ? [] : [1]
    content {
      sid = "ECRLogin"
      # ecr:GetAuthorizationToken: AWS does not support resource-level permissions for this action.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "controller_execution" {
  count  = var.mode == "ecs" ? 1 : 0
  name   = "controller-execution"
  role   = aws_iam_role.controller_execution[0].id
  policy = data.aws_iam_policy_document.controller_execution.json
}
