using System;

namespace LossDsl;

/// <summary>
/// The shape of a contiguous batch: <c>N</c> images, <c>C</c> channels, and per (n, c) plane <c>H</c> rows and <c>W</c>
/// columns (N×C×H×W), or for volumes <c>D</c> slices of H×W (N×C×D×H×W; <see cref="D"/> is 1 for images). Every backend
/// reads its inputs in this layout; pointwise math and every reduction treat the D·H·W elements of a plane alike, and the
/// window filters are separable over each spatial axis (PyTorch's <c>*_pool2d</c> or <c>*_pool3d</c>).
/// </summary>
/// <param name="N">Batch size (images).</param>
/// <param name="C">Channels per image.</param>
/// <param name="H">Rows per slice.</param>
/// <param name="W">Columns per row.</param>
public readonly record struct LossShape(int N, int C, int H, int W)
{
    /// <summary>A volume batch, N×C×D×H×W.</summary>
    /// <param name="n">Batch size.</param>
    /// <param name="c">Channels per image.</param>
    /// <param name="d">Slices per volume.</param>
    /// <param name="h">Rows per slice.</param>
    /// <param name="w">Columns per row.</param>
    public LossShape(int n, int c, int d, int h, int w)
        : this(n, c, h, w)
    {
        D = d;
    }

    /// <summary>Slices per plane: 1 for an N×C×H×W batch, the depth of an N×C×D×H×W one.</summary>
    public int D { get; init; } = 1;

    /// <summary>Number of (n, c) planes: <c>N * C</c>.</summary>
    public int Planes => checked(N * C);

    /// <summary>Rows per plane, over every slice: <c>D * H</c>.</summary>
    public int Rows => checked(D * H);

    /// <summary>Elements per plane: <c>D * H * W</c> (H·W for images).</summary>
    public int PlaneSize => checked(D * H * W);

    /// <summary>Total number of elements: <c>N * C * D * H * W</c>.</summary>
    public int Length => checked(N * C * D * H * W);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless every dimension is positive and the element count fits in an <see cref="int"/>.</summary>
    /// <param name="paramName">The parameter name to report.</param>
    public void Validate(string paramName = "shape")
    {
        if (N <= 0 || C <= 0 || D <= 0 || H <= 0 || W <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, this, $"Every dimension of {paramName} must be positive; got {this}.");
        }

        if ((long)N * C * D * H * W > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(paramName, this, $"{paramName} has more than {int.MaxValue} elements.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => D == 1 ? $"{N}x{C}x{H}x{W}" : $"{N}x{C}x{D}x{H}x{W}";
}
