using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>Emits the TorchSharp backend (<c>L.Compute(Tensor, ...)</c>) from the schedule.</summary>
internal static class TorchSharpEmitter
{
    public static string? Emit(ScheduleSpec s) => null;
}
