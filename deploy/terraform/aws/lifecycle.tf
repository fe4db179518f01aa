# Environment VM resources that follow Auto Scaling groups (docs/environments.md). For each group
# of var.vm_resource_environments: a termination lifecycle hook that holds a terminating instance
# until adofleet has removed its VM resource; an EventBridge rule that sends the group's lifecycle
# action and launch/terminate-successful events to a queue with a dead-letter queue; the
# controller's permissions to consume the queue and complete the hook; and a managed policy for
# the groups' instance role, so the user data can read the registration PAT. Nothing is created
# when the list is empty.

locals {
  vm_enabled = length(var.vm_resource_environments) > 0
  vm_groups  = distinct(flatten([for e in var.vm_resource_environments : e.auto_scaling_groups]))
  vm_group_arns = [
    for g in local.vm_groups :
    "arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${g}"
  ]
  # Token parameters by name or ARN; a name becomes its ARN as pat_parameter_arn does.
  vm_token_parameter_arns = distinct([
    for e in var.vm_resource_environments :
    startswith(e.token_parameter, "arn:") ? e.token_parameter :
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${startswith(e.token_parameter, "/") ? "" : "/"}${e.token_parameter}"
  ])
  vm_hook_name = "${var.name}-deregister"

  # The config's vmResources section (internal/config; docs/config.md), merged into the rendered
  # config by main.tf.
  vm_config = local.vm_enabled ? {
    vmResources = {
      queueUrl           = aws_sqs_queue.lifecycle[0].url
      deadLetterQueueUrl = aws_sqs_queue.lifecycle_dlq[0].url
      maxReceives        = var.lifecycle_max_receive_count
      region             = local.region
      environments = [for e in var.vm_resource_environments : {
        project           = e.project
        environment       = e.environment
        autoScalingGroups = e.auto_scaling_groups
        tags              = e.tags
        tokenParameter    = e.token_parameter
      }]
    }
  } : {}
}

# Holds a terminating instance in Terminating:Wait until adofleet completes the action (after the
# VM resource and its hidden agent are gone) or the heartbeat times out; CONTINUE either way, so a
# stuck controller never blocks a scale-in.
resource "aws_autoscaling_lifecycle_hook" "deregister" {
  for_each               = toset(local.vm_groups)
  name                   = local.vm_hook_name
  autoscaling_group_name = each.key
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_TERMINATING"
  heartbeat_timeout      = var.lifecycle_heartbeat_timeout
  default_result         = "CONTINUE"
}

resource "aws_sqs_queue" "lifecycle_dlq" {
  count                     = local.vm_enabled ? 1 : 0
  name                      = "${var.name}-lifecycle-dlq"
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps: time to look at a poison message
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "lifecycle" {
  count = local.vm_enabled ? 1 : 0
  name  = "${var.name}-lifecycle"
  # Six times the sqs function's timeout, as Lambda advises for an event source; serve extends
  # the visibility of a message it is still handling.
  visibility_timeout_seconds = 6 * local.sqs_function_timeout
  # A lifecycle action is void after the heartbeat timeout; older messages only matter to the
  # reconcile, which does not need them.
  message_retention_seconds = 345600 # 4 days
  receive_wait_time_seconds = 20
  sqs_managed_sse_enabled   = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.lifecycle_dlq[0].arn
    maxReceiveCount     = var.lifecycle_max_receive_count
  })
  tags = local.tags
}

data "aws_iam_policy_document" "lifecycle_queue" {
  count = local.vm_enabled ? 1 : 0
  statement {
    sid = "EventBridgeSends"
    # The lifecycle rule (and only it) delivers the groups' events to the queue.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lifecycle[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.lifecycle[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "lifecycle" {
  count     = local.vm_enabled ? 1 : 0
  queue_url = aws_sqs_queue.lifecycle[0].id
  policy    = data.aws_iam_policy_document.lifecycle_queue[0].json
}

# Auto Scaling sends these events to EventBridge by itself; the rule picks the configured groups'.
resource "aws_cloudwatch_event_rule" "lifecycle" {
  count       = local.vm_enabled ? 1 : 0
  name        = "${var.name}-lifecycle"
  description = "adofleet: lifecycle events of the Auto Scaling groups whose instances are Environment VM resources."
  event_pattern = jsonencode({
    source = ["aws.autoscaling"]
    "detail-type" = [
      "EC2 Instance-terminate Lifecycle Action",
      "EC2 Instance Launch Successful",
      "EC2 Instance Terminate Successful",
    ]
    detail = { AutoScalingGroupName = local.vm_groups }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "lifecycle" {
  count     = local.vm_enabled ? 1 : 0
  rule      = aws_cloudwatch_event_rule.lifecycle[0].name
  target_id = "adofleet-lifecycle-queue"
  arn       = aws_sqs_queue.lifecycle[0].arn
}

# Mode lambda: the sqs function consumes the queue; a failed record is retried alone.
resource "aws_lambda_event_source_mapping" "lifecycle" {
  count                   = var.mode == "lambda" && local.vm_enabled ? 1 : 0
  event_source_arn        = aws_sqs_queue.lifecycle[0].arn
  function_name           = aws_lambda_function.controller["sqs"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
}

data "aws_iam_policy_document" "lifecycle_controller" {
  count = local.vm_enabled ? 1 : 0
  statement {
    sid = "ConsumeLifecycleEvents"
    # serve polls the queue (mode ecs); the event source mapping polls with the function's role
    # (mode lambda). Messages are deleted only once handled.
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.lifecycle[0].arn]
  }

  statement {
    sid = "DeadLetterPoison"
    # A message that can never be handled is moved to the dead-letter queue at once.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lifecycle_dlq[0].arn]
  }

  statement {
    sid = "CompleteLifecycleAction"
    # Release a terminating instance once its VM resource is removed; these groups only.
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = local.vm_group_arns
  }

  statement {
    sid = "ObserveGroupsAndInstances"
    # The reconcile lists the groups' instances and checks which instances still exist. For
    # autoscaling:DescribeAutoScalingGroups and ec2:DescribeInstances AWS
    # does not support resource-level permissions (for these actions).
    actions   = ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lifecycle_controller" {
  count  = local.vm_enabled ? 1 : 0
  name   = "lifecycle"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.lifecycle_controller[0].json
}

# For the groups' instance role (attach it where the launch template's instance profile is
# defined): the user data reads the registration PAT at boot.
data "aws_iam_policy_document" "vm_instance" {
  count = local.vm_enabled ? 1 : 0
  statement {
    sid = "ReadRegistrationPAT"
    # adofleet userdata: aws ssm get-parameter --with-decryption of the environments' parameters.
    actions   = ["ssm:GetParameter"]
    resources = local.vm_token_parameter_arns
  }

  dynamic "statement" {
    for_each = var.vm_token_kms_key_arn == null ? [] : [var.vm_token_kms_key_arn]
    content {
      sid = "DecryptRegistrationPAT"
      # Decrypts the parameters' customer key, only through SSM.
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_policy" "vm_instance" {
  count       = local.vm_enabled ? 1 : 0
  name        = "${var.name}-vm-instance"
  description = "adofleet: lets Environment VM instances read their registration PAT at boot."
  policy      = data.aws_iam_policy_document.vm_instance[0].json
  tags        = local.tags
}
