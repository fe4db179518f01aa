# Mode lambda: three functions from the controller image, `adofleet lambda` choosing the handler
# by ADOFLEET_LAMBDA_HANDLER.

locals {
  # The sqs function's timeout also sizes the lifecycle queue's visibility timeout (lifecycle.tf).
  sqs_function_timeout = 60
  lambda_functions = var.mode == "lambda" ? {
    # One reconcile at a time: one controller per deployment (leader election is not in yet).
    reconcile = { timeout = 120, concurrency = 1 }
    checks    = { timeout = 30, concurrency = -1 }
    # Lifecycle events are safe to handle concurrently on a shared store (conditional writes);
    # with a local sqlite file each environment would have its own records, so one at a time.
    sqs = { timeout = local.sqs_function_timeout, concurrency = var.state_store == "sqlite" ? 1 : -1 }
  } : {}
}

resource "aws_lambda_function" "controller" {
  for_each      = local.lambda_functions
  function_name = "${var.name}-${each.key}"
  description   = "adofleet lambda: ${each.key} handler"
  role          = aws_iam_role.controller.arn
  package_type  = "Image"
  image_uri     = var.controller_image
  timeout       = each.value.timeout
  memory_size   = 256
  architectures = ["x86_64"]

  reserved_concurrent_executions = each.value.concurrency

  image_config {
    command = ["lambda"]
  }

  # No vpc_config: the controller only calls ADO and the AWS APIs over HTTPS, so it runs outside
  # the VPC (no NAT gateway, no ENI permissions). The agents run in subnet_ids.

  environment {
    variables = {
      ADOFLEET_LAMBDA_HANDLER = each.key
      ADOFLEET_CONFIG_YAML    = local.config_yaml
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.controller.name
  }

  tags = local.tags
}

# Scheduled reconcile.
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    # EventBridge Scheduler of this account assumes the role to invoke the reconcile function.
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count              = var.mode == "lambda" ? 1 : 0
  name               = "${var.name}-scheduler"
  description        = "EventBridge Scheduler invokes the adofleet reconcile function."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  count = var.mode == "lambda" ? 1 : 0
  statement {
    # Invoke the reconcile function and nothing else.
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.controller["reconcile"].arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count  = var.mode == "lambda" ? 1 : 0
  name   = "invoke-reconcile"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

resource "aws_scheduler_schedule" "reconcile" {
  count               = var.mode == "lambda" ? 1 : 0
  name                = "${var.name}-reconcile"
  schedule_expression = var.reconcile_schedule

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.controller["reconcile"].arn
    role_arn = aws_iam_role.scheduler[0].arn
    # The handler is chosen by ADOFLEET_LAMBDA_HANDLER; the payload only has to be an object.
    input = jsonencode({ "detail-type" = "Scheduled Event", source = "adofleet.scheduler" })

    retry_policy {
      maximum_retry_attempts = 0 # the next tick is the retry
    }
  }
}

# The checks webhook: a function URL. ADO's "Invoke REST API" check cannot sign AWS requests, so
# the URL is public (auth NONE) and the handler authenticates the call itself. In Lambda the
# checks handler needs the DynamoDB store shared with the reconcile function (issue 5); until
# then run the checks endpoint with mode = "ecs" (adofleet serve).
resource "aws_lambda_function_url" "checks" {
  count              = var.mode == "lambda" ? 1 : 0
  function_name      = aws_lambda_function.controller["checks"].function_name
  authorization_type = "NONE"
}
