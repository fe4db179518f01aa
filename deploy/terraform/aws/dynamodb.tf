# The state store (store.dynamodb): one table that every controller process shares, the ECS
# service's task across restarts and every Lambda execution environment alike. The key design is
# internal/store/dynamodb's (doc.go): string keys pk and sk, the local secondary index by-group on
# lsk (local, so that reads through it are strongly consistent; it can only be made with the
# table), and the TTL attribute ttl on finished records.

locals {
  state_table_name = "${var.name}-state"
  # Built, not read from the resource, so the policy document is valid with state_store = "sqlite".
  state_table_arn = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${local.state_table_name}"

  # The store section of the rendered config; the unused store is null, which adofleet reads as
  # absent.
  store_config = {
    dynamodb = var.state_store == "dynamodb" ? { table = local.state_table_name } : null
    sqlite   = var.state_store == "sqlite" ? { path = "/tmp/adofleet.db" } : null
  }
}

resource "aws_dynamodb_table" "state" {
  count = var.state_store == "dynamodb" ? 1 : 0

  name         = local.state_table_name
  billing_mode = "PAY_PER_REQUEST" # on demand: a controller's load is small and bursty
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "lsk"
    type = "S"
  }

  local_secondary_index {
    name            = "by-group"
    range_key       = "lsk"
    projection_type = "ALL"
  }

  # Gone agents, decisions, finished VM records and notifications expire; check callback marks
  # have no ttl and stay.
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  # The marks that keep a check callback from being sent twice are worth restoring.
  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

data "aws_iam_policy_document" "state_table" {
  statement {
    sid = "StateTable"
    # The dynamodb store reads by key and through its index (GetItem, Query), writes conditionally
    # (PutItem, DeleteItem) and checks the table's key schema at start (DescribeTable). No Scan,
    # no CreateTable: this module makes the table. This table and its one index only.
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:DescribeTable"]
    resources = [local.state_table_arn, "${local.state_table_arn}/index/by-group"]
  }
}

resource "aws_iam_role_policy" "controller_state" {
  count  = var.state_store == "dynamodb" ? 1 : 0
  name   = "state-table"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.state_table.json
}

output "state_table" {
  description = "Name of the state table (store.dynamodb.table); null with state_store = \"sqlite\"."
  value       = var.state_store == "dynamodb" ? aws_dynamodb_table.state[0].name : null
}
