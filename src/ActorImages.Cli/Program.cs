return await ActorImages.Cli.CliApp.RunProcessAsync(args);
