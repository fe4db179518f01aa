package secret

// Default returns the registry behind the package-level functions, so that packages adding
// schemes at start-up (awssecret for ssm: and secretsmanager:) register where config validation
// and Resolve look.
func Default() *Registry { return defaultRegistry }
