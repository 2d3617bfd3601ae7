# mk/model.mk - the run-time service models.
#   make model   regenerate lua/aws_connect/model/ from data/models/*/service-2.json
#                (and paginators-1.json) with tools/gen-model.py; no code changes

.PHONY: model

model:
	$(PYTHON) tools/gen-model.py data/models lua/aws_connect/model
