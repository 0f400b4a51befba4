"""Fine-tuning: supervised fine-tuning on traces (`sft`) and the fine-tuning-activated
backdoor trainer (`fab`), both Hugging Face Trainers; what they share (`callbacks`,
`padding`) sits beside them. Loading what they produce is `backdoorlab.models`' job."""
