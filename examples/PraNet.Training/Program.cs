using System;
using PraNet.Training;
using static TorchSharp.torch;

if (args.Length > 0 && args[0] == "dbg")
{
    foreach (var variant in new[] { "pad1", "prepad", "double", "unfold" })
    {
        int bad = 0, wrong = 0;
        for (int it = 0; it < 100; it++)
        {
            using var sc = NewDisposeScope();
            var dt = variant == "double" ? ScalarType.Float64 : ScalarType.Float32;
            var w = randn(1, 16, 3, 3, dtype: dt) * 0.1;
            var zz = randn(16, 16, 64, 64, dtype: dt, requires_grad: true);
            Tensor y = variant switch
            {
                "prepad" => TorchSharp.torch.nn.functional.conv2d(TorchSharp.torch.nn.functional.pad(zz, [1, 1, 1, 1]), w),
                "unfold" => matmul(w.reshape(1, -1), TorchSharp.torch.nn.functional.unfold(zz, 3, padding: 1)).reshape(16, 1, 64, 64),
                _ => TorchSharp.torch.nn.functional.conv2d(zz, w, padding: [1, 1]),
            };
            var g = randn_like(y);
            y.backward([g]);
            var reference = TorchSharp.torch.nn.functional.conv_transpose2d(g, w, padding: [1, 1]);
            if (zz.grad!.isnan().any().item<bool>()) bad++;
            else if ((zz.grad! - reference).abs().max().to(ScalarType.Float64).item<double>() > 1e-3) wrong++;
        }
        Console.WriteLine($"{variant}: nan {bad} wrong {wrong} /100");
    }
    return;
}
var options = new TrainingOptions { Epochs = int.Parse(args.Length > 0 ? args[0] : "2"), Loss = args.Length > 1 && args[1] == "eager" ? LossKind.Eager : LossKind.Generated };
var sw = System.Diagnostics.Stopwatch.StartNew();
var result = Trainer.Run(options, s => { if (s.Step % 10 == 0) Console.WriteLine($"{s.Epoch} {s.Step}/{s.Steps} loss {s.Loss:F4} size {s.ImageSize} {s.ImagesPerSecond:F1} img/s"); },
    e => Console.WriteLine($"epoch {e.Epoch} loss {e.TrainLoss:F4} dice {e.HeldOut.Dice:F3} iou {e.HeldOut.IoU:F3} {e.Seconds:F1}s {e.ImagesPerSecond:F1} img/s  t={sw.Elapsed.TotalSeconds:F1}"));
Console.WriteLine($"initial dice {result.Initial.Dice:F3} baseline {result.BaselineDice:F3}");
