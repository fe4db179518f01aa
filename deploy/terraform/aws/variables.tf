variable "name" {
  description = "Prefix of every resource name (cluster, roles, functions, log groups)."
  type        = string
  default     = "adofleet"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,24}$", var.name))
    error_message = "name must be 1-24 letters, digits or hyphens (it prefixes IAM role names)."
  }
}

variable "mode" {
  description = "How the controller runs: \"ecs\" (a Fargate service running adofleet serve) or \"lambda\" (scheduled reconcile, checks function behind an HTTP API, and SQS consumer)."
  type        = string
  default     = "ecs"

  validation {
    condition     = contains(["ecs", "lambda"], var.mode)
    error_message = "mode must be \"ecs\" or \"lambda\"."
  }
}

variable "ado_org_url" {
  description = "Azure DevOps organization URL, e.g. https://dev.azure.com/contoso."
  type        = string

  validation {
    condition     = can(regex("^https://", var.ado_org_url))
    error_message = "ado_org_url must be an https:// URL."
  }
}

variable "pool_names" {
  description = "ADO agent pools adofleet scales with agents on this cluster (they must exist in ADO). May be empty when only vm_resource_environments is used (the Environment part deployed alone)."
  type        = list(string)
  default     = []
}

variable "pool_max_agents" {
  description = "Upper bound of agents per pool (your parallel-job licence cap)."
  type        = number
  default     = 10
}

variable "pat_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the ADO PAT, e.g. /adofleet/ado-pat. Create it out of band (aws ssm put-parameter); this module never reads or writes its value, so it never enters the Terraform state."
  type        = string

  validation {
    condition     = startswith(var.pat_parameter_name, "/")
    error_message = "pat_parameter_name must be a fully qualified name starting with /."
  }
}

variable "pat_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the PAT parameter; null when it uses the AWS-managed key aws/ssm (which needs no kms:Decrypt grant)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets for the agent tasks and the controller (they need outbound HTTPS to ADO, ECR and the AWS APIs, through a NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the agent tasks and the controller (outbound 443 is all they need; no inbound)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only for subnets with an internet gateway and no NAT; default false)."
  type        = bool
  default     = false
}

variable "controller_image" {
  description = "adofleet controller image URI (in ECR of this region for mode lambda)."
  type        = string
}

variable "agent_image" {
  description = "Agent image URI built from deploy/agent (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/adofleet-agent:4.255.0)."
  type        = string
}

variable "ecr_repository_arns" {
  description = "ECR repositories the images are pulled from (grants pull on those only); empty for public images."
  type        = list(string)
  default     = []
}

variable "agent_cpu" {
  description = "Agent task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 256
}

variable "agent_memory" {
  description = "Agent task memory in MiB (512 with 256 CPU units is the smallest Fargate size)."
  type        = number
  default     = 512
}

variable "agent_task_policy_arns" {
  description = "Managed policies attached to the agent task role: what the pipeline jobs may do in AWS (deployments). Keep them narrow."
  type        = list(string)
  default     = []
}

variable "use_fargate_spot" {
  description = "Run agents on FARGATE_SPOT first with FARGATE as the fallback capacity provider."
  type        = bool
  default     = true
}

variable "reconcile_schedule" {
  description = "EventBridge Scheduler expression of the reconcile in mode lambda (rate(1 minute) is the finest)."
  type        = string
  default     = "rate(1 minute)"
}

variable "metrics_namespace" {
  description = "CloudWatch namespace adofleet may publish metrics to (PutMetricData is allowed for this namespace only)."
  type        = string
  default     = "adofleet"
}

variable "log_retention_days" {
  description = "Retention of the controller and agent log groups, in days."
  type        = number
  default     = 30
}

variable "extra_config_yaml" {
  description = "Optional adofleet config overriding the one the module renders (YAML); secrets must stay references such as ssm:/adofleet/ado-pat, never values."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "vm_resource_environments" {
  description = "ADO Environments kept in step with Auto Scaling groups (docs/environments.md): each group's instances register as VM resources from their user data (adofleet userdata) and are removed when they terminate. token_parameter is the SSM SecureString parameter (name or ARN) with the registration PAT the instances read. Empty: none of lifecycle.tf is created."
  type = list(object({
    project             = string
    environment         = string
    auto_scaling_groups = list(string)
    tags                = optional(list(string), [])
    token_parameter     = string
  }))
  default = []

  validation {
    condition     = alltrue([for e in var.vm_resource_environments : length(e.auto_scaling_groups) > 0])
    error_message = "every entry of vm_resource_environments needs at least one Auto Scaling group."
  }

  validation {
    condition = length(flatten([for e in var.vm_resource_environments : e.auto_scaling_groups])) == length(distinct(flatten([for e in var.vm_resource_environments : e.auto_scaling_groups])))
    error_message = "an Auto Scaling group may be listed under one environment only."
  }
}

variable "lifecycle_heartbeat_timeout" {
  description = "Seconds a terminating instance is held for adofleet to remove its VM resource before the hook's default result (CONTINUE) applies (30-7200)."
  type        = number
  default     = 300

  validation {
    condition     = var.lifecycle_heartbeat_timeout >= 30 && var.lifecycle_heartbeat_timeout <= 7200
    error_message = "lifecycle_heartbeat_timeout must be between 30 and 7200 seconds."
  }
}

variable "lifecycle_max_receive_count" {
  description = "Receives of a lifecycle message before the queue moves it to the dead-letter queue (vmResources.maxReceives)."
  type        = number
  default     = 5
}

variable "vm_token_kms_key_arn" {
  description = "ARN of the customer-managed KMS key of the registration PAT parameters; null when they use aws/ssm."
  type        = string
  default     = null
}

variable "state_store" {
  description = "Where the controller keeps its state: \"dynamodb\" (a table this module creates, shared by every process and Lambda environment, kept across restarts) or \"sqlite\" (a file under /tmp, lost with the task or execution environment; for trials)."
  type        = string
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "sqlite"], var.state_store)
    error_message = "state_store must be \"dynamodb\" or \"sqlite\"."
  }
}
