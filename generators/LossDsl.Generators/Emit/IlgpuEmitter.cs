using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>Emits the ILGPU backend (<c>L.Ilgpu</c>) from the schedule.</summary>
internal static class IlgpuEmitter
{
    public static string? Emit(ScheduleSpec s) => null;
}
