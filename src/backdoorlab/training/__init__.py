"""Fine-tuning: supervised fine-tuning on traces (`sft`), and loading what it produced."""
