"""The saga core: the names, the plan and the status rules every other part of the package uses.

This package is the bottom layer: it imports nothing from Airflow and, of this package, only
``airflow_provider_wfo.results`` (the seed's result types). The operators, the events listener,
the audit trace, ``wfo run``'s progress, the workflow view and the remote client all take their
task ids, XCom keys, decisions and statuses from here, so none of them derives a status itself.

* :mod:`.names`   task ids, XCom keys, the ``wfo`` tag, reserved step ids and scope names
* :mod:`.plan`    :class:`~.plan.SagaPlan` (computed once at parse time) and the gate's decision
* :mod:`.records` the ``wfo_outcome`` record each attempt leaves, read back as :class:`~.records.Outcome`
* :mod:`.status`  THE function from task states and outcomes to step and workflow status, progress
                  and durations (:func:`~.status.derive`), and the ``WorkflowResult`` built from it
"""
