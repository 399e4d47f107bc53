System.Console.WriteLine("PraNet-style training demo: under construction.");
