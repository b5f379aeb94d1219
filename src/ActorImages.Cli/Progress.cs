using Spectre.Console;

namespace ActorImages.Cli;

/// <summary>
/// A Spectre.Console progress bar on stderr, or nothing: drawn over files when a command moves several, over bytes
/// when it moves one large file (at least <see cref="Large"/> bytes, or of unknown size), and only when
/// <see cref="Output.Progress"/> allows. Spectre's bar lives inside a callback, so it runs in a task of its own
/// until <see cref="Dispose"/>; its <see cref="ProgressTask"/> takes updates from any thread.
/// </summary>
internal sealed class Progress : IDisposable
{
    /// <summary>A single file at least this large, in bytes (1 MiB), gets a bar over its bytes.</summary>
    public const long Large = 1 << 20;

    private static readonly Progress Nothing = new(null, null, null);

    private readonly ProgressTask? _task;
    private readonly TaskCompletionSource? _done;
    private readonly Task? _running;

    private Progress(ProgressTask? task, TaskCompletionSource? done, Task? running)
    {
        _task = task;
        _done = done;
        _running = running;
    }

    /// <summary>A bar that draws nothing.</summary>
    public static Progress None => Nothing;

    /// <summary>A bar over <paramref name="count"/> files, drawn if there are several.</summary>
    public static Progress Files(Output output, string task, int count) =>
        output.Progress && count > 1 ? Start(output, task, count) : Nothing;

    /// <summary>A bar over <paramref name="size"/> bytes, drawn for a large file; size &lt; 0: unknown.</summary>
    public static Progress Bytes(Output output, string task, long size) =>
        output.Progress && (size < 0 || size >= Large) ? Start(output, task, size < 0 ? 0 : size) : Nothing;

    private static Progress Start(Output output, string description, double max)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output.Err) });
        var ready = new TaskCompletionSource<ProgressTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(description, autoStart: true, maxValue: max);
                task.IsIndeterminate = max <= 0;
                ready.SetResult(task);
                await done.Task;
                task.Value = task.MaxValue = Math.Max(task.Value, max);
            });
        return new Progress(ready.Task.GetAwaiter().GetResult(), done, running);
    }

    /// <summary>Advances by one (a file).</summary>
    public void Step() => _task?.Increment(1);

    /// <summary>Moves to <paramref name="current"/> (bytes so far).</summary>
    public void To(long current)
    {
        if (_task is not null)
        {
            _task.MaxValue = Math.Max(_task.MaxValue, current);
            _task.Value = current;
        }
    }

    /// <summary>Draws the bar's last state and ends its line.</summary>
    public void Dispose()
    {
        _done?.TrySetResult();
        _running?.GetAwaiter().GetResult();
    }
}
