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

# The checks webhook: an HTTP API with one route, POST /v1/checks/{pool}, to the checks function
# (payload format 2.0). ADO's "Invoke REST API" check cannot sign AWS requests, so the route has
# no authorizer and the handler authenticates the call itself (the service connection's basic
# credentials or the shared secret); any other method or path gets API Gateway's 404 without
# invoking the function. The function records the request in the state store, and the reconcile
# function launches for it and calls the check back: use state_store = "dynamodb", which both
# functions share (the handler refuses sqlite).
resource "aws_apigatewayv2_api" "checks" {
  count         = var.mode == "lambda" ? 1 : 0
  name          = "${var.name}-checks"
  description   = "adofleet: Azure DevOps Invoke REST API checks"
  protocol_type = "HTTP"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "checks" {
  count                  = var.mode == "lambda" ? 1 : 0
  api_id                 = aws_apigatewayv2_api.checks[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.controller["checks"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 10000 # ADO waits a few seconds for a callback-mode check's answer
}

resource "aws_apigatewayv2_route" "checks" {
  count     = var.mode == "lambda" ? 1 : 0
  api_id    = aws_apigatewayv2_api.checks[0].id
  route_key = "POST /v1/checks/{pool}"
  target    = "integrations/${aws_apigatewayv2_integration.checks[0].id}"
}

resource "aws_apigatewayv2_stage" "checks" {
  count       = var.mode == "lambda" ? 1 : 0
  api_id      = aws_apigatewayv2_api.checks[0].id
  name        = "$default" # no stage in the path: the check's URL suffix is v1/checks/<pool>
  auto_deploy = true

  default_route_settings {
    # Bounds what an unauthenticated caller can cost; far above what checks need.
    throttling_burst_limit = 50
    throttling_rate_limit  = 20
  }

  tags = local.tags
}

resource "aws_lambda_permission" "checks" {
  count         = var.mode == "lambda" ? 1 : 0
  statement_id  = "api-gateway-checks"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.controller["checks"].function_name
  principal     = "apigateway.amazonaws.com"
  # This API's route only.
  source_arn = "${aws_apigatewayv2_api.checks[0].execution_arn}/*/POST/v1/checks/*"
}
