using Spectre.Console;

namespace ActorImages.Cli;

/// <summary>
/// A Spectre.Console progress bar on stderr, or nothing: drawn over files when a command moves several, over bytes
/// when it moves one large file (at least <see cref="Large"/> bytes, or of unknown size), and only when
/// <see cref="Output.Progress"/> allows. On a terminal it is Spectre's live bar, which lives inside a callback, so
/// it runs in a task of its own until <see cref="Dispose"/>; its <see cref="ProgressTask"/> takes updates from any
/// thread. Forced with <c>--progress</c> into a file or pipe, where Spectre draws nothing, it is a plain line per
/// tenth of the way.
/// </summary>
internal sealed class Progress : IDisposable
{
    /// <summary>A single file at least this large, in bytes (1 MiB), gets a bar over its bytes.</summary>
    public const long Large = 1 << 20;

    private static readonly Progress Nothing = new(null, null, null);

    private readonly ProgressTask? _task;
    private readonly TaskCompletionSource? _done;
    private readonly Task? _running;
    private readonly PlainLines? _lines;

    private Progress(ProgressTask? task, TaskCompletionSource? done, Task? running, PlainLines? lines = null)
    {
        _task = task;
        _done = done;
        _running = running;
        _lines = lines;
    }

    /// <summary>A bar that draws nothing.</summary>
    public static Progress None => Nothing;

    /// <summary>A bar over <paramref name="count"/> files, drawn if there are several.</summary>
    public static Progress Files(Output output, string task, int count) =>
        output.Progress && count > 1 ? Start(output, task, count, bytes: false) : Nothing;

    /// <summary>A bar over <paramref name="size"/> bytes, drawn for a large file; size &lt; 0: unknown.</summary>
    public static Progress Bytes(Output output, string task, long size) =>
        output.Progress && (size < 0 || size >= Large) ? Start(output, task, size < 0 ? 0 : size, bytes: true) : Nothing;

    private static Progress Start(Output output, string description, double max, bool bytes)
    {
        if (output.Err != Console.Error || Console.IsErrorRedirected)
        {
            return new Progress(null, null, null, new PlainLines(output.Err, description, max, bytes));
        }
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
    public void Step()
    {
        _task?.Increment(1);
        _lines?.Step();
    }

    /// <summary>Moves to <paramref name="current"/> (bytes so far).</summary>
    public void To(long current)
    {
        if (_task is not null)
        {
            _task.MaxValue = Math.Max(_task.MaxValue, current);
            _task.Value = current;
        }
        _lines?.To(current);
    }

    /// <summary>Draws the bar's last state and ends its line.</summary>
    public void Dispose()
    {
        _done?.TrySetResult();
        _running?.GetAwaiter().GetResult();
        _lines?.End();
    }

    /// <summary><c>send: 1.0 MB of 3.1 MB (30%)</c> lines: at each tenth of the way and at the end.</summary>
    private sealed class PlainLines(TextWriter err, string description, double max, bool bytes)
    {
        private readonly bool _files = !bytes;
        private double _value;
        private int _tenth;

        public void Step() => To((long)_value + 1);

        public void To(long current)
        {
            _value = current;
            int tenth = max > 0 ? (int)Math.Min(10, current * 10 / max) : 0;
            if (tenth > _tenth && tenth < 10)
            {
                _tenth = tenth;
                Print();
            }
        }

        public void End() => Print();

        private void Print()
        {
            string done = _files ? $"{_value:0}" : Output.Megabytes((long)_value);
            string total = max <= 0 ? "" : " of " + (_files ? $"{max:0}" : Output.Megabytes((long)max)) + $" ({Math.Min(100, _value * 100 / max):0}%)";
            lock (err) err.WriteLine($"{description}: {done}{total}");
        }
    }
}
