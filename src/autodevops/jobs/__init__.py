"""The job system: Redis queues (bullmq, behind `broker`), Postgres as the durable record, one worker loop.

Domains declare tasks with `autodevops.jobs.registry.task` and create jobs with
`autodevops.jobs.service.enqueue_job`; nothing outside this package imports the queue library.
"""
