output "cluster_arn" {
  description = "ARN of the ECS cluster the agents (and in mode ecs the controller) run on."
  value       = aws_ecs_cluster.this.arn
}

output "agent_task_definition_family" {
  description = "Task definition family of the agents (providers.ecs.taskDefinition)."
  value       = aws_ecs_task_definition.agent.family
}

output "agent_task_role_arn" {
  description = "Role the pipeline jobs run with; attach deployment permissions through agent_task_policy_arns."
  value       = aws_iam_role.agent_task.arn
}

output "controller_role_arn" {
  description = "Role of the controller (ECS task role or Lambda execution role)."
  value       = aws_iam_role.controller.arn
}

output "pat_parameter_arn" {
  description = "ARN of the PAT parameter the roles may read (create it out of band)."
  value       = local.pat_parameter_arn
}

output "controller_log_group" {
  description = "Log group of the controller."
  value       = aws_cloudwatch_log_group.controller.name
}

output "agent_log_group" {
  description = "Log group of the agents."
  value       = aws_cloudwatch_log_group.agents.name
}

output "checks_url" {
  description = "Base URL of the checks webhook (mode lambda): the Server URL of the Generic service connection the Invoke REST API check uses (its URL suffix is v1/checks/<pool>); null in mode ecs."
  value       = var.mode == "lambda" ? "${aws_apigatewayv2_api.checks[0].api_endpoint}/" : null
}

output "lifecycle_queue_url" {
  description = "SQS queue of the Auto Scaling lifecycle events (vmResources.queueUrl); null without vm_resource_environments."
  value       = local.vm_enabled ? aws_sqs_queue.lifecycle[0].url : null
}

output "lifecycle_dead_letter_queue_url" {
  description = "Dead-letter queue of the lifecycle queue (vmResources.deadLetterQueueUrl); null without vm_resource_environments."
  value       = local.vm_enabled ? aws_sqs_queue.lifecycle_dlq[0].url : null
}

output "lifecycle_hook_name" {
  description = "Name of the termination lifecycle hook put on each group of vm_resource_environments."
  value       = local.vm_hook_name
}

output "vm_instance_policy_arn" {
  description = "Managed policy to attach to the groups' instance role: reads the registration PAT parameters. Null without vm_resource_environments."
  value       = local.vm_enabled ? aws_iam_policy.vm_instance[0].arn : null
}

output "config_yaml" {
  description = "The adofleet config the controller runs with (references only, no secret values)."
  value       = local.config_yaml
}
